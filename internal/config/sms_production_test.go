package config

import (
	"slices"
	"strings"
	"testing"
)

func TestReleaseModeTencent(t *testing.T) {
	base := []string{"GATEHOUSE_MODE=release", "GATEHOUSE_SECRET=" + strings.Repeat("s", 32), "GATEHOUSE_JWT_KEY=x",
		"GATEHOUSE_SMTP_ADDR=127.0.0.1:25", "GATEHOUSE_SMS_PROVIDER=tencent"}
	full := append(slices.Clone(base),
		"GATEHOUSE_TENCENT_SECRET_ID=id", "GATEHOUSE_TENCENT_SECRET_KEY=key", "GATEHOUSE_TENCENT_SMS_APP_ID=1400000001",
		"GATEHOUSE_TENCENT_SMS_SIGN_NAME=Gatehouse", "GATEHOUSE_TENCENT_SMS_TEMPLATE_LOGIN=1", "GATEHOUSE_TENCENT_SMS_TEMPLATE_BIND=2")
	c, err := Load("", full)
	if err != nil {
		t.Fatalf("complete tencent config refused: %v", err)
	}
	if c.TencentSMSRegion != "ap-guangzhou" || c.TencentSMSEndpoint != "https://sms.tencentcloudapi.com" {
		t.Errorf("defaults: region %q endpoint %q", c.TencentSMSRegion, c.TencentSMSEndpoint)
	}
	// Each key without a default, left out, is named.
	for i := len(base); i < len(full); i++ {
		env := slices.Delete(slices.Clone(full), i, i+1)
		name, _, _ := strings.Cut(full[i], "=")
		if _, err := Load("", env); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("without %s: %v, want an error naming it", name, err)
		}
	}
	// Plain http only to loopback.
	if _, err := Load("", append(slices.Clone(full), "GATEHOUSE_TENCENT_SMS_ENDPOINT=http://127.0.0.1:9000")); err != nil {
		t.Errorf("loopback http endpoint refused: %v", err)
	}
	if _, err := Load("", append(slices.Clone(full), "GATEHOUSE_TENCENT_SMS_ENDPOINT=http://sms.internal:9000")); err == nil || !strings.Contains(err.Error(), "GATEHOUSE_TENCENT_SMS_ENDPOINT") {
		t.Errorf("http endpoint off the machine: %v, want refused", err)
	}
	if _, err := Load("", append(slices.Clone(full), "GATEHOUSE_TENCENT_SMS_ENDPOINT=ftp://x")); err == nil {
		t.Error("ftp endpoint accepted")
	}
	// Debug mode runs a half-configured provider's validation at start,
	// not here: only release refuses missing keys.
	if _, err := Load("", []string{"GATEHOUSE_SMS_PROVIDER=tencent"}); err != nil {
		t.Errorf("debug mode: %v", err)
	}
}

func TestSMSGuardSettings(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := c.SMSRegions(); !slices.Equal(r, []string{"CN"}) || c.SMSRangeHourlyLimit != 30 || c.SMSRegionHourlyLimit != 0 ||
		c.SMSGlobalHourlyLimit != 0 || c.SMSGuard != SMSGuardEnforce {
		t.Errorf("defaults: %v %d %d %d %s", r, c.SMSRangeHourlyLimit, c.SMSRegionHourlyLimit, c.SMSGlobalHourlyLimit, c.SMSGuard)
	}
	c, err = Load("", []string{"GATEHOUSE_SMS_COUNTRIES=cn, hk", "GATEHOUSE_SMS_GUARD=record"})
	if r, _ := c.SMSRegions(); err != nil || !slices.Equal(r, []string{"CN", "HK"}) {
		t.Errorf("cn, hk: %v %v", r, err)
	}
	c, err = Load("", []string{"GATEHOUSE_SMS_COUNTRIES=*"})
	if r, _ := c.SMSRegions(); err != nil || r != nil {
		t.Errorf("*: %v %v", r, err)
	}
	for _, env := range []string{"GATEHOUSE_SMS_COUNTRIES=CHN", "GATEHOUSE_SMS_COUNTRIES=*,CN", "GATEHOUSE_SMS_COUNTRIES=",
		"GATEHOUSE_SMS_GUARD=off", "GATEHOUSE_SMS_RANGE_HOURLY_LIMIT=-1", "GATEHOUSE_SMS_PROVIDER=twilio"} {
		if _, err := Load("", []string{env}); err == nil {
			t.Errorf("%s accepted", env)
		}
	}
}
