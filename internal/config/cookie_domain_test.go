package config

import "testing"

func TestCookieDomainMustBeABareDomain(t *testing.T) {
	for _, d := range []string{"", "example.com", "id.example.com", "example.test", "xn--bcher-kva.example"} {
		if _, err := Load("", []string{"GATEHOUSE_COOKIE_DOMAIN=" + d}); err != nil {
			t.Errorf("%q refused: %v", d, err)
		}
	}
	for _, d := range []string{".example.com", "https://example.com", "example.com:8080", "example.com/", "localhost", "127.0.0.1", "ex ample.com", "-x.example.com", "a..b"} {
		if _, err := Load("", []string{"GATEHOUSE_COOKIE_DOMAIN=" + d}); err == nil {
			t.Errorf("%q accepted", d)
		}
	}
}
