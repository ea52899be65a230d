package natsactions

import "strings"

// token encodes s as one token of a NATS subject or key-value key: letters,
// digits, '-' and '_' stay as they are, every other byte becomes "=XX" (its
// hex value), and the empty string becomes "=". The encoding is injective,
// so distinct names never share a subject or a key, and common action names
// ("AcceptTask") read as themselves in the server's tools.
func token(s string) string {
	if s == "" {
		return "="
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		const hex = "0123456789ABCDEF"
		b.WriteByte('=')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
