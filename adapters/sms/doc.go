// Package sms delivers one-time codes by SMS: TencentSender sends them
// through Tencent Cloud SMS with Tencent's official SDK, WebhookSender hands
// each code to an SMS gateway of the operator's choice over a request signed
// as Standard Webhooks do, and LogSender prints codes to the log for
// development.
package sms
