package mail

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
)

var allKinds = []domain.MailKind{
	domain.MailResetCode, domain.MailPasswordChanged, domain.MailEmailChanged,
	domain.MailPhoneChanged, domain.MailPhoneRemoved, domain.MailTOTPChanged,
	domain.MailTOTPRemoved, domain.MailLarkLinked, domain.MailLarkRemoved,
	domain.MailRecoveryCodesMade, domain.MailRecoveryCodeUsed,
	domain.MailSessionsEnded, domain.MailSignedOutEverywhere,
}

func mustRenderer(t *testing.T) *renderer {
	t.Helper()
	r, err := newRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRenderEveryKind(t *testing.T) {
	r := mustRenderer(t)
	for _, kind := range allKinds {
		subjects := map[domain.Lang]string{}
		for _, lang := range []domain.Lang{domain.LangEnglish, domain.LangChinese} {
			msg := domain.Mail{To: "old@example.com", Kind: kind, Lang: lang}
			switch kind {
			case domain.MailResetCode:
				msg.Code = "135790"
			case domain.MailEmailChanged:
				msg.NewEmail = "new@example.com"
			case domain.MailSessionsEnded, domain.MailSignedOutEverywhere:
				msg.Sessions = 7
			}
			subject, text, html, err := r.render(msg, "Acme Login", 15*time.Minute)
			if err != nil {
				t.Fatalf("%s/%s: %v", kind, lang, err)
			}
			subjects[lang] = subject
			if subject == "" || strings.ContainsAny(subject, "\r\n") || !strings.Contains(subject, "Acme Login") {
				t.Errorf("%s/%s: subject %q", kind, lang, subject)
			}
			if !strings.Contains(text, "old@example.com") || !strings.Contains(html, "old@example.com") {
				t.Errorf("%s/%s: the recipient's address is missing", kind, lang)
			}
			if !strings.Contains(html, `<html lang="`+map[domain.Lang]string{"en": "en", "zh": "zh-CN"}[lang]+`"`) {
				t.Errorf("%s/%s: html lacks its lang attribute:\n%s", kind, lang, html)
			}
			if lang == domain.LangChinese && !strings.Contains(text, "您好") {
				t.Errorf("%s/zh: text is not Chinese:\n%s", kind, text)
			}
			switch kind {
			case domain.MailResetCode:
				for _, body := range []string{text, html} {
					if !strings.Contains(body, "135790") || !strings.Contains(body, "15") {
						t.Errorf("%s/%s: code or validity missing:\n%s", kind, lang, body)
					}
				}
			case domain.MailEmailChanged:
				if !strings.Contains(text, "new@example.com") || !strings.Contains(html, "new@example.com") {
					t.Errorf("%s/%s: the new address is missing", kind, lang)
				}
			case domain.MailSessionsEnded, domain.MailSignedOutEverywhere:
				if !strings.Contains(text, "7") || !strings.Contains(html, "7") {
					t.Errorf("%s/%s: the number of sessions is missing", kind, lang)
				}
			}
		}
		if subjects[domain.LangEnglish] == subjects[domain.LangChinese] {
			t.Errorf("%s: English and Chinese subjects are the same: %q", kind, subjects[domain.LangEnglish])
		}
	}
}

func TestRenderUnknownLangIsEnglish(t *testing.T) {
	r := mustRenderer(t)
	msg := domain.Mail{To: "a@example.com", Kind: domain.MailResetCode, Code: "111111", Lang: "fr"}
	s1, t1, h1, err := r.render(msg, "Gatehouse", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	msg.Lang = domain.LangEnglish
	s2, t2, h2, _ := r.render(msg, "Gatehouse", time.Minute)
	if s1 != s2 || t1 != t2 || h1 != h2 {
		t.Error("an unknown language did not fall back to English")
	}
	if !strings.Contains(t1, "expires in 1 minute ") {
		t.Errorf("text %q does not say 1 minute", t1)
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	r := mustRenderer(t)
	evil := `<script>alert("x")</script>@example.com`
	msg := domain.Mail{To: `o'<b>@example.com`, Kind: domain.MailEmailChanged, NewEmail: evil, Lang: domain.LangEnglish}
	_, text, html, err := r.render(msg, `Acme <i>&</i>`, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{"<script>", "<i>", "o'<b>"} {
		if strings.Contains(html, raw) {
			t.Errorf("html holds unescaped %q:\n%s", raw, html)
		}
	}
	if !strings.Contains(html, "&lt;script&gt;") {
		t.Errorf("html lacks the escaped new address:\n%s", html)
	}
	// The text part is plain text: escaping it would garble the address.
	if !strings.Contains(text, evil) {
		t.Errorf("text does not hold the address as is:\n%s", text)
	}
}

func TestRenderRefusesUnknownKind(t *testing.T) {
	r := mustRenderer(t)
	if _, _, _, err := r.render(domain.Mail{To: "a@example.com", Kind: "welcome"}, "Gatehouse", time.Minute); err == nil {
		t.Error("an unknown kind rendered")
	}
}

func TestSubjectStaysOneLine(t *testing.T) {
	r := mustRenderer(t)
	subject, _, _, err := r.render(domain.Mail{To: "a@example.com", Kind: domain.MailPasswordChanged}, "Acme\r\nBcc: x@evil.test", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(subject, "\r\n") {
		t.Errorf("subject %q spans lines", subject)
	}
}

func TestRenderRecoveryCodeUsedSaysHowManyLeft(t *testing.T) {
	r := mustRenderer(t)
	for _, c := range []struct {
		lang      domain.Lang
		remaining int
		want      string
	}{
		{domain.LangEnglish, 7, "7 unused recovery codes are left"},
		{domain.LangEnglish, 1, "1 unused recovery code is left"},
		{domain.LangEnglish, 0, "No unused recovery codes are left"},
		{domain.LangChinese, 7, "还剩 7 个未使用的恢复码"},
		{domain.LangChinese, 0, "您已没有未使用的恢复码"},
	} {
		msg := domain.Mail{To: "a@example.com", Kind: domain.MailRecoveryCodeUsed, Lang: c.lang, Remaining: c.remaining}
		_, text, html, err := r.render(msg, "Gatehouse", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, c.want) || !strings.Contains(html, c.want) {
			t.Errorf("%s, %d left: want %q in both parts:\n%s\n%s", c.lang, c.remaining, c.want, text, html)
		}
	}
}
