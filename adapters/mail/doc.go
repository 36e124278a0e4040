// Package mail delivers Gatehouse's mails: the password reset code and the
// security notices sent when a credential changes. SMTPMailer renders them
// from embedded English and Chinese templates and sends them over SMTP;
// LogMailer prints them to the log for development.
package mail
