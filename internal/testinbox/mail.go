package testinbox

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one mail as the SMTP server received it.
type Message struct {
	From    string   // envelope sender (MAIL FROM)
	To      []string // envelope recipients (RCPT TO)
	Header  mail.Header
	Subject string // decoded from RFC 2047
	Text    string // the text/plain part, decoded
	HTML    string // the text/html part, decoded
	Raw     []byte // the message as sent, after dot-unstuffing
}

// codePattern finds a 6-digit code standing on its own; \b is an ASCII word
// boundary, so Chinese punctuation next to the digits counts as one.
var codePattern = regexp.MustCompile(`\b\d{6}\b`)

// Code returns the one 6-digit code in the text part (or the HTML part when
// there is no text part) and fails the test when there is none or more than
// one different code.
func (m Message) Code(t testing.TB) string {
	t.Helper()
	body := m.Text
	if body == "" {
		body = m.HTML
	}
	found := codePattern.FindAllString(body, -1)
	if len(found) == 0 {
		t.Fatalf("testinbox: no 6-digit code in mail %q to %v", m.Subject, m.To)
	}
	for _, c := range found[1:] {
		if c != found[0] {
			t.Fatalf("testinbox: mail %q holds several codes %v", m.Subject, found)
		}
	}
	return found[0]
}

// MailInbox is an SMTP server on 127.0.0.1 with no TLS and no
// authentication; it accepts every mail and keeps it. It advertises neither
// STARTTLS nor AUTH, so a client that insists on either fails against it.
type MailInbox struct {
	t  testing.TB
	ln net.Listener
	wg sync.WaitGroup

	mu           sync.Mutex
	messages     []Message
	taken        []bool // taken[i]: messages[i] was already returned by WaitFor
	conns        map[net.Conn]struct{}
	failing      bool
	authAttempts int
}

// NewMailInbox starts the server; it stops when the test ends.
func NewMailInbox(t testing.TB) *MailInbox {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testinbox: listen: %v", err)
	}
	in := &MailInbox{t: t, ln: ln, conns: make(map[net.Conn]struct{})}
	in.wg.Go(in.accept)
	t.Cleanup(in.close)
	return in
}

// Addr is the host:port to configure as the SMTP address.
func (in *MailInbox) Addr() string { return in.ln.Addr().String() }

// SetFailing makes the server refuse every recipient while fail is true, to
// test what happens when delivery fails.
func (in *MailInbox) SetFailing(fail bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.failing = fail
}

// AuthAttempts counts AUTH commands, which this server refuses; a client
// configured without TLS must never send one.
func (in *MailInbox) AuthAttempts() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.authAttempts
}

// All returns every mail received so far, oldest first.
func (in *MailInbox) All() []Message {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Message(nil), in.messages...)
}

// WaitFor returns the oldest mail to the address to (compared without case)
// that no earlier WaitFor returned, waiting up to timeout for it; it fails
// the test when none comes. Delivery is asynchronous, hence the wait.
func (in *MailInbox) WaitFor(t testing.TB, to string, timeout time.Duration) Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m, ok := in.take(to); ok {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("testinbox: no new mail to %s within %s", to, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (in *MailInbox) take(to string) (Message, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i, m := range in.messages {
		if in.taken[i] {
			continue
		}
		for _, rcpt := range m.To {
			if strings.EqualFold(rcpt, to) {
				in.taken[i] = true
				return m, true
			}
		}
	}
	return Message{}, false
}

func (in *MailInbox) accept() {
	for {
		c, err := in.ln.Accept()
		if err != nil {
			return // listener closed
		}
		in.mu.Lock()
		in.conns[c] = struct{}{}
		in.mu.Unlock()
		in.wg.Go(func() {
			defer func() {
				in.mu.Lock()
				delete(in.conns, c)
				in.mu.Unlock()
				c.Close()
			}()
			in.session(c)
		})
	}
}

func (in *MailInbox) close() {
	in.ln.Close()
	in.mu.Lock()
	for c := range in.conns {
		c.Close()
	}
	in.mu.Unlock()
	in.wg.Wait()
}

// session speaks just enough SMTP (RFC 5321) for a mail library to deliver.
func (in *MailInbox) session(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	tp := textproto.NewConn(c)
	reply := func(line string) bool { return tp.PrintfLine("%s", line) == nil }
	if !reply("220 testinbox ESMTP") {
		return
	}
	var from string
	var rcpts []string
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		var ok bool
		switch strings.ToUpper(verb) {
		case "EHLO":
			ok = reply("250-testinbox") && reply("250 8BITMIME")
		case "HELO":
			ok = reply("250 testinbox")
		case "MAIL":
			from, rcpts = pathArg(arg), nil
			ok = reply("250 2.1.0 ok")
		case "RCPT":
			in.mu.Lock()
			failing := in.failing
			in.mu.Unlock()
			if failing {
				ok = reply("550 5.1.1 mailbox unavailable (failing on purpose)")
				break
			}
			rcpts = append(rcpts, pathArg(arg))
			ok = reply("250 2.1.5 ok")
		case "DATA":
			if len(rcpts) == 0 {
				ok = reply("503 5.5.1 need RCPT first")
				break
			}
			if !reply("354 end with <CRLF>.<CRLF>") {
				return
			}
			raw, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			in.store(from, rcpts, raw)
			from, rcpts = "", nil
			ok = reply("250 2.0.0 queued")
		case "RSET":
			from, rcpts = "", nil
			ok = reply("250 2.0.0 ok")
		case "NOOP":
			ok = reply("250 2.0.0 ok")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		case "AUTH":
			in.mu.Lock()
			in.authAttempts++
			in.mu.Unlock()
			ok = reply("502 5.5.1 AUTH not offered")
		default:
			ok = reply("502 5.5.1 command not implemented")
		}
		if !ok {
			return
		}
	}
}

// pathArg reads the address out of "FROM:<a@b> PARAMS" or "TO:<a@b>".
func pathArg(arg string) string {
	_, path, _ := strings.Cut(arg, ":")
	path = strings.TrimSpace(path)
	if i := strings.IndexByte(path, '>'); strings.HasPrefix(path, "<") && i > 0 {
		return path[1:i]
	}
	addr, _, _ := strings.Cut(path, " ")
	return addr
}

func (in *MailInbox) store(from string, rcpts []string, raw []byte) {
	m, err := parseMessage(raw)
	if err != nil {
		in.t.Errorf("testinbox: unreadable mail from %s: %v\n%s", from, err, raw)
	}
	m.From, m.To, m.Raw = from, rcpts, raw
	in.mu.Lock()
	defer in.mu.Unlock()
	in.messages = append(in.messages, m)
	in.taken = append(in.taken, false)
}

func parseMessage(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	m := Message{Header: msg.Header}
	if m.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return m, fmt.Errorf("subject: %w", err)
	}
	err = readPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, &m)
	return m, err
}

// readPart walks a MIME entity and keeps its text/plain and text/html
// leaves. The mails under test are UTF-8, so no charset conversion is done.
func readPart(contentType, encoding string, body io.Reader, m *Message) error {
	if contentType == "" {
		contentType = "text/plain"
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart() // decodes quoted-printable by itself
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := readPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, m); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("%s body: %w", mediaType, err)
	}
	switch mediaType {
	case "text/plain":
		m.Text += string(b)
	case "text/html":
		m.HTML += string(b)
	}
	return nil
}
