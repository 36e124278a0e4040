// Package sms delivers one-time codes by SMS: WebhookSender hands each code to
// an SMS gateway of the operator's choice over a signed HTTP request, and
// LogSender prints codes to the log for development.
package sms
