package git

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-logr/logr"
)

// Sentinel errors callers can test with errors.Is.
var (
	// ErrMissingURL: Options.URL is empty.
	ErrMissingURL = errors.New("git: no repository URL")
	// ErrMissingCacheDir: Options.CacheDir is empty.
	ErrMissingCacheDir = errors.New("git: no cache directory")
	// ErrInvalidRef: the Ref combines fields that exclude each other, or names
	// nothing the remote has (no such branch or tag, no tag in the semver range).
	ErrInvalidRef = errors.New("git: invalid reference")
	// ErrKnownHostsRequired: an SSH URL without known hosts and without
	// Auth.InsecureIgnoreHostKey.
	ErrKnownHostsRequired = errors.New("git: SSH needs known_hosts (or InsecureIgnoreHostKey)")
	// ErrUnknownHostKey: the SSH server's host key is not in the known hosts, or
	// differs from the one recorded.
	ErrUnknownHostKey = errors.New("git: SSH host key not trusted")
	// ErrSizeLimit: the checkout, or an object or the objects of a pack being
	// fetched, would exceed Options.MaxSize.
	ErrSizeLimit = errors.New("git: checkout size limit exceeded")
	// ErrEmptyRepository: the remote has no commits.
	ErrEmptyRepository = errors.New("git: remote repository is empty")
	// ErrNonFastForward: a push was rejected because the branch moved; fetch and
	// retry.
	ErrNonFastForward = errors.New("git: push rejected: not a fast-forward")
	// ErrSubmoduleURL: a submodule's URL in .gitmodules is not a remote one
	// Fetch may follow: a file:// URL or a local path, another transport, plain
	// HTTP under an HTTPS repository, or a relative URL that cannot be resolved
	// against the repository's.
	ErrSubmoduleURL = errors.New("git: submodule URL refused")
)

// Ref selects the commit to fetch. At most one of Branch, Tag, SemVer and Name may
// be set; Commit may be combined with Branch (the branch is fetched in full to find
// the commit) or used alone. The zero Ref is the remote's default branch (HEAD).
type Ref struct {
	// Branch is a branch name, e.g. "main".
	Branch string
	// Tag is a tag name, e.g. "v1.2.0"; annotated tags resolve to their commit.
	Tag string
	// SemVer is a Masterminds semver constraint (">=1.0.0 <2.0.0", "~1.2"); the
	// highest tag satisfying it is fetched. Tags may carry a "v" prefix.
	SemVer string
	// Commit is a full 40-character commit hash.
	Commit string
	// Name is a full reference name, e.g. "refs/pull/42/head".
	Name string
}

func (r Ref) validate() error {
	n := 0
	for _, s := range []string{r.Branch, r.Tag, r.SemVer, r.Name} {
		if s != "" {
			n++
		}
	}
	switch {
	case n > 1:
		return fmt.Errorf("%w: set at most one of Branch, Tag, SemVer and Name", ErrInvalidRef)
	case r.Commit != "" && (r.Tag != "" || r.SemVer != "" || r.Name != ""):
		return fmt.Errorf("%w: Commit combines only with Branch", ErrInvalidRef)
	case r.Commit != "" && !isHash(r.Commit):
		return fmt.Errorf("%w: commit %q is not a full hexadecimal SHA-1", ErrInvalidRef, r.Commit)
	case r.SemVer != "":
		if _, err := parseConstraint(r.SemVer); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidRef, err)
		}
	}
	return nil
}

func isHash(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Auth holds credentials. Secrets in it never appear in errors or logs.
type Auth struct {
	// Username and Password are HTTP basic credentials. Credentials written in the
	// URL (https://user:token@host/...) are moved here.
	Username, Password string
	// BearerToken is sent as "Authorization: Bearer <token>" over HTTP(S).
	BearerToken string
	// CABundle is PEM certificates trusted for HTTPS in addition to the system pool.
	CABundle []byte
	// SSHPrivateKey is a PEM private key (OpenSSH, PKCS#1/#8); SSHPassphrase
	// decrypts it when it is encrypted. The SSH user comes from the URL, else "git".
	SSHPrivateKey []byte
	SSHPassphrase string
	// KnownHosts is known_hosts content the SSH server's key must match.
	KnownHosts []byte
	// InsecureIgnoreHostKey accepts any SSH host key. Only for tests.
	InsecureIgnoreHostKey bool
}

// Options configures a [Repository].
type Options struct {
	// URL is the repository: https://, http://, ssh://, user@host:path (scp-like),
	// git://, file:// or a local path.
	URL string
	// Ref selects the commit; the zero value is the default branch.
	Ref Ref
	// Auth holds credentials.
	Auth Auth
	// CacheDir holds the object cache and checked-out artifacts. Repositories with
	// the same URL may share it, in one process or several.
	CacheDir string
	// FullHistory fetches the whole history instead of a shallow (depth 1) fetch.
	FullHistory bool
	// Ignore is extra gitignore-syntax patterns applied after the repository's own
	// .sourceignore files, e.g. "/*\n!/deploy/" to keep only deploy/.
	Ignore string
	// Submodules checks out submodules (recursively) with the same credentials,
	// which are sent only to submodules on the same host. Submodule URLs must be
	// remote: https://, ssh:// or scp-like, git://, and http:// only when URL is
	// http:// too; file:// URLs and local paths are refused ([ErrSubmoduleURL]).
	Submodules bool
	// RelativeSubmodules lets Submodules follow URLs relative to the repository's
	// ("../lib.git", which forges recommend), resolved against URL as git does;
	// without it they are refused. A repository on the local disk has none.
	RelativeSubmodules bool
	// Checkout says how Fetch presents the files: a directory (the zero value,
	// [CheckoutDirectory]) or read on demand from the object cache ([CheckoutLazy]).
	Checkout Checkout
	// MaxSize bounds the bytes of a checkout, and of each pack a fetch receives:
	// a pack that declares an object larger than MaxSize (a delta counts at the
	// size of the object it makes), or objects adding up to more (each also
	// counting 256 bytes of bookkeeping), is refused as it arrives, before it is
	// stored or inflated in memory. 0 means 1 GiB, negative means no limit. A
	// FullHistory fetch of a long history may need more.
	MaxSize int64
	// Verify, when set, refuses commits without a valid signature by one of its keys.
	Verify *Verification
	// Timeout bounds each operation (Fetch, LatestRevision, Push) on top of the
	// caller's context; 0 means 5 minutes. A Fetch shared by concurrent calls
	// is bounded by it alone; a call queued behind a running one may wait for
	// both (see [Repository.Fetch]).
	Timeout time.Duration
	// KeepArtifacts is how many checked-out revisions stay on disk; older ones are
	// deleted by a later Fetch. 0 means 3.
	KeepArtifacts int
	// Logger receives progress at V(1); unset, the
	// logger of the call's context (logr.FromContextOrDiscard).
	Logger logr.Logger
}

// Validate reports what makes o unusable; it changes nothing ([Options.WithDefaults]
// fills the defaults).
func (o Options) Validate() error {
	if o.URL == "" {
		return ErrMissingURL
	}
	if o.CacheDir == "" {
		return ErrMissingCacheDir
	}
	if err := o.Ref.validate(); err != nil {
		return err
	}
	if o.Checkout == CheckoutLazy && o.Submodules {
		return errors.New("git: CheckoutLazy does not support Submodules")
	}
	if o.Checkout != CheckoutDirectory && o.Checkout != CheckoutLazy {
		return fmt.Errorf("git: unknown Checkout %d", o.Checkout)
	}
	return nil
}

// WithDefaults returns o with its zero fields set to their defaults: MaxSize
// 1 GiB, Timeout five minutes, KeepArtifacts 3.
func (o Options) WithDefaults() Options {
	if o.MaxSize == 0 {
		o.MaxSize = 1 << 30
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.KeepArtifacts <= 0 {
		o.KeepArtifacts = 3
	}
	return o
}

// splitUserinfo removes credentials from a URL or an scp-like address
// ("alice:token@host:app.git"), returning the clean form and the user and
// password it held. Local paths pass unchanged.
func splitUserinfo(raw string) (clean, user, pass string) {
	if !strings.Contains(raw, "://") {
		ep, err := transport.NewEndpoint(raw)
		if err != nil || ep.Protocol != "ssh" {
			return raw, "", ""
		}
		user, pass, ok := strings.Cut(ep.User, ":")
		if !ok {
			return raw, "", ""
		}
		return user + "@" + strings.TrimPrefix(raw, ep.User+"@"), user, pass
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw, "", ""
	}
	user = u.User.Username()
	pass, _ = u.User.Password()
	u.User = nil
	return u.String(), user, pass
}
