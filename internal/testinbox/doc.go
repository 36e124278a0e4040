// Package testinbox is for tests only: it stands in for the outside world
// that receives Gatehouse's codes and notices. SMSInbox is an HTTP receiver
// for the SMS webhook that checks the signature; MailInbox is a plain SMTP
// server on the loopback interface. Both keep what they receive so a test
// can wait for the next message to an address and read the code in it.
package testinbox
