package onetime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/onetime"
)

const premiumCN = "+8616812345" // libphonenumber's example premium-rate number of CN

func smsTo(codes *onetime.Codes, phone, ip string) error {
	return codes.Throttle(context.Background(), domain.PurposeSMSLogin, phone, from(ip))
}

func TestSMSGuardNumbers(t *testing.T) {
	var logs bytes.Buffer
	codes, _ := newCodes(onetime.Caps{SMS: onetime.SMSGuard{Regions: []string{"CN"}, Log: slog.New(slog.NewTextHandler(&logs, nil))}})
	for _, tt := range []struct {
		phone  string
		reason onetime.RefusalReason
	}{
		{"+12015550123", onetime.RefuseRegion},
		{"+447400123456", onetime.RefuseRegion},
		{premiumCN, onetime.RefuseNumberType},
		{"+864001234567", onetime.RefuseNumberType}, // shared cost
	} {
		if err := smsTo(codes, tt.phone, "203.0.113.1"); !errors.Is(err, domain.ErrPhoneUnsupported) {
			t.Errorf("%s: %v, want PHONE_UNSUPPORTED", tt.phone, err)
		}
		if !strings.Contains(logs.String(), "reason="+string(tt.reason)) {
			t.Errorf("%s: log %q lacks the reason %s", tt.phone, logs.String(), tt.reason)
		}
		if strings.Contains(logs.String(), tt.phone) {
			t.Errorf("log %q holds the full number %s", logs.String(), tt.phone)
		}
	}
	if got := codes.SMSRefusals().Count(onetime.RefuseRegion); got != 2 {
		t.Errorf("region refusals = %d, want 2", got)
	}
	if got := codes.SMSRefusals().Count(onetime.RefuseNumberType); got != 2 {
		t.Errorf("number type refusals = %d, want 2", got)
	}
	if err := smsTo(codes, "+8613800138000", "203.0.113.1"); err != nil {
		t.Errorf("a CN mobile: %v", err)
	}
	// Mail is not guarded.
	if err := codes.Throttle(context.Background(), domain.PurposeMailReset, "a@example.com", from("203.0.113.1")); err != nil {
		t.Errorf("mail: %v", err)
	}
	// Every region allowed: only the number type is refused.
	all, _ := newCodes(onetime.Caps{})
	if err := smsTo(all, "+12015550123", "203.0.113.1"); err != nil {
		t.Errorf("US mobile with every region allowed: %v", err)
	}
	if err := smsTo(all, "+19002345678", "203.0.113.1"); !errors.Is(err, domain.ErrPhoneUnsupported) {
		t.Errorf("US premium rate: %v, want PHONE_UNSUPPORTED", err)
	}
}

func TestSMSGuardCaps(t *testing.T) {
	tests := []struct {
		name   string
		caps   onetime.Caps
		next   func(i int) (phone, ip string)
		limit  int
		reason onetime.RefusalReason
	}{
		{"ip", onetime.Caps{SMSPerIP: 3}, func(i int) (string, string) { return fmt.Sprintf("+861380013%04d", i), "203.0.113.9" }, 3, onetime.RefuseIP},
		{"range", onetime.Caps{SMS: onetime.SMSGuard{RangePerHour: 4}}, func(i int) (string, string) {
			return fmt.Sprintf("+861380013%04d", i), fmt.Sprintf("203.0.113.%d", i)
		}, 4, onetime.RefuseRange},
		{"region", onetime.Caps{SMS: onetime.SMSGuard{RegionPerHour: 5}}, func(i int) (string, string) {
			return fmt.Sprintf("+86138%02d130000", i), fmt.Sprintf("203.0.113.%d", i)
		}, 5, onetime.RefuseRegionCap},
		{"global", onetime.Caps{SMS: onetime.SMSGuard{GlobalPerHour: 2}}, func(i int) (string, string) {
			return fmt.Sprintf("+86139%02d130000", i), fmt.Sprintf("203.0.113.%d", i)
		}, 2, onetime.RefuseGlobalCap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			codes, clk := newCodes(tt.caps)
			for i := range tt.limit {
				phone, ip := tt.next(i)
				if err := smsTo(codes, phone, ip); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
			}
			phone, ip := tt.next(tt.limit)
			err := smsTo(codes, phone, ip)
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.CodeRateLimited || de.RetryAfter <= 0 {
				t.Fatalf("send over the cap: %v, want RATE_LIMITED with a wait", err)
			}
			if got := codes.SMSRefusals().Count(tt.reason); got != 1 {
				t.Errorf("refusals of %s = %d, want 1", tt.reason, got)
			}
			// The refused send left no resend throttle on its phone.
			clk.Advance(time.Hour)
			if err := smsTo(codes, phone, ip); err != nil {
				t.Errorf("after the hour: %v", err)
			}
		})
	}
}

// A request refused by a check counts toward no cap: the order of API.md.
func TestSMSGuardCountsOnlyPassingRequests(t *testing.T) {
	codes, _ := newCodes(onetime.Caps{SMS: onetime.SMSGuard{Regions: []string{"CN"}, GlobalPerHour: 2}})
	for range 5 {
		_ = smsTo(codes, "+12015550123", "203.0.113.1") // region
		_ = smsTo(codes, premiumCN, "203.0.113.1")      // number type
	}
	if err := smsTo(codes, "+8613800138000", "203.0.113.1"); err != nil {
		t.Fatal(err)
	}
	// CODE_TOO_FREQUENT comes before the caps and counts nothing either.
	for range 3 {
		if err := smsTo(codes, "+8613800138000", "203.0.113.1"); !errors.Is(err, domain.ErrCodeTooFrequent) {
			t.Fatalf("again: %v", err)
		}
	}
	if err := smsTo(codes, "+8613800138001", "203.0.113.1"); err != nil {
		t.Fatalf("second of two: %v", err)
	}
	if err := smsTo(codes, "+8613800138002", "203.0.113.1"); !errors.Is(err, domain.ErrRateLimited) {
		t.Fatalf("third: %v, want RATE_LIMITED", err)
	}
}

func TestSMSGuardRecordMode(t *testing.T) {
	var logs bytes.Buffer
	codes, _ := newCodes(onetime.Caps{SMSPerIP: 1, SMS: onetime.SMSGuard{
		Regions: []string{"CN"}, RangePerHour: 1, RegionPerHour: 1, GlobalPerHour: 1, RecordOnly: true,
		Log: slog.New(slog.NewTextHandler(&logs, nil)),
	}})
	for i, phone := range []string{"+8613800138000", "+8613800138001", "+12015550123", premiumCN} {
		if err := smsTo(codes, phone, "203.0.113.1"); err != nil {
			t.Errorf("send %d in record mode: %v", i, err)
		}
	}
	out := logs.String()
	for _, reason := range onetime.RefusalReasons() {
		if !strings.Contains(out, "record") || !strings.Contains(out, "reason="+string(reason)) {
			t.Errorf("record-mode log lacks reason %s:\n%s", reason, out)
		}
		if n := codes.SMSRefusals().Count(reason); n != 0 {
			t.Errorf("record mode counted %d refusals of %s", n, reason)
		}
	}
	// The resend throttle is no part of the guard: it still answers.
	if err := smsTo(codes, "+8613800138000", "203.0.113.1"); !errors.Is(err, domain.ErrCodeTooFrequent) {
		t.Errorf("resend in record mode: %v, want CODE_TOO_FREQUENT", err)
	}
}
