package git

import "github.com/gitopskit/gitopskit/internal/redact"

// RedactURL hides credentials in every URL and address in s:
// "https://user:token@host" becomes "https://***@host", and the scp-like
// "alice:token@host:app.git" becomes "alice:***@host:app.git". SSH user names
// (ssh://git@host, git@host:app.git) are kept; they are not secret.
func RedactURL(s string) string { return redact.URL(s) }
