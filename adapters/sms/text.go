package sms

import (
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/domain"
)

// defaultCodeTTL matches the default SMS code lifetime of the policy, so the
// text stays true when the caller leaves CodeTTL unset.
const defaultCodeTTL = 2 * time.Minute

// messageText is the text a person reads on the phone, in msg.Lang (English
// when the language is unknown). ttl is how long the code lives.
func messageText(msg domain.SMS, ttl time.Duration) (string, error) {
	minutes := wholeMinutes(ttl)
	switch msg.Lang {
	case domain.LangChinese:
		switch msg.Purpose {
		case domain.PurposeSMSLogin:
			return fmt.Sprintf("您的登录验证码是 %s，%d 分钟内有效。", msg.Code, minutes), nil
		case domain.PurposePhoneBind:
			return fmt.Sprintf("您正在绑定此手机号，验证码是 %s，%d 分钟内有效。", msg.Code, minutes), nil
		}
	default:
		unit := "minutes"
		if minutes == 1 {
			unit = "minute"
		}
		switch msg.Purpose {
		case domain.PurposeSMSLogin:
			return fmt.Sprintf("Your Gatehouse login code is %s. It expires in %d %s.", msg.Code, minutes, unit), nil
		case domain.PurposePhoneBind:
			return fmt.Sprintf("Your code to bind this phone to Gatehouse is %s. It expires in %d %s.", msg.Code, minutes, unit), nil
		}
	}
	return "", fmt.Errorf("sms: purpose %q is not sent by SMS", msg.Purpose)
}

// wholeMinutes rounds ttl down, so the text does not promise more time than
// the code has; a lifetime under a minute still reads "1 minute" rather
// than "0 minutes".
func wholeMinutes(ttl time.Duration) int {
	return max(1, int(ttl/time.Minute))
}
