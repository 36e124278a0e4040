package domain

// Client describes who made a request: where from, with what, and in which
// language they read. Services record it in login history and use Lang for
// mails and SMS texts.
type Client struct {
	IP        string
	UserAgent string
	Lang      Lang
}
