package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/gatehouse/gatehouse/domain"
)

// templateFS holds, per language, one text file (subjects and plain-text
// bodies) and one HTML file; a kind's templates are named after it, its
// subject "<kind>.subject".
//
//go:embed templates/*.tmpl
var templateFS embed.FS

// languages are those with templates; any other Lang is written in English.
var languages = []domain.Lang{domain.LangEnglish, domain.LangChinese}

// mailData is what every template sees.
type mailData struct {
	Instance string // the service's name as the reader knows it
	To       string // the recipient, the account's address
	Code     string // MailResetCode only
	Minutes  int    // how long Code lives, MailResetCode only
	NewEmail string // MailEmailChanged only
	// Remaining is the unused recovery codes left, MailRecoveryCodeUsed only.
	Remaining int
	Sessions  int // the sessions notices only: how many other sessions ended
}

// renderer turns a domain.Mail into a subject and two bodies.
type renderer struct {
	text map[domain.Lang]*texttemplate.Template
	html map[domain.Lang]*htmltemplate.Template
}

func newRenderer() (*renderer, error) {
	r := &renderer{
		text: make(map[domain.Lang]*texttemplate.Template),
		html: make(map[domain.Lang]*htmltemplate.Template),
	}
	for _, lang := range languages {
		t, err := texttemplate.ParseFS(templateFS, fmt.Sprintf("templates/%s.txt.tmpl", lang))
		if err != nil {
			return nil, fmt.Errorf("mail: parse %s text templates: %w", lang, err)
		}
		h, err := htmltemplate.ParseFS(templateFS, fmt.Sprintf("templates/%s.html.tmpl", lang))
		if err != nil {
			return nil, fmt.Errorf("mail: parse %s html templates: %w", lang, err)
		}
		r.text[lang], r.html[lang] = t, h
	}
	return r, nil
}

// render writes msg in its language, English when there are no templates
// for it. resetTTL is the lifetime of a reset code, so the mail tells the
// truth about it.
func (r *renderer) render(msg domain.Mail, instance string, resetTTL time.Duration) (subject, text, html string, err error) {
	lang := msg.Lang
	if _, ok := r.text[lang]; !ok {
		lang = domain.LangEnglish
	}
	data := mailData{
		Instance: instance,
		To:       msg.To,
		Code:     msg.Code,
		Minutes:  max(1, int(resetTTL/time.Minute)),
		NewEmail: msg.NewEmail,

		Remaining: msg.Remaining,
		Sessions:  msg.Sessions,
	}
	name := string(msg.Kind)
	if r.text[lang].Lookup(name) == nil {
		return "", "", "", fmt.Errorf("mail: no template for kind %q", msg.Kind)
	}
	var b bytes.Buffer
	if err := r.text[lang].ExecuteTemplate(&b, name+".subject", data); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s subject: %w", name, err)
	}
	// A subject is one header line; folding every run of white space into
	// one space keeps a line break in the instance name from starting a
	// header of its own.
	subject = strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err := r.text[lang].ExecuteTemplate(&b, name, data); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s text: %w", name, err)
	}
	text = b.String()
	b.Reset()
	if err := r.html[lang].ExecuteTemplate(&b, name, data); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s html: %w", name, err)
	}
	return subject, text, b.String(), nil
}
