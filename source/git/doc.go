// Package git is a [source.Source] for Git repositories, built on go-git, written for
// agents that poll many repositories for a long time.
//
// A [Repository] follows one reference of one remote: a branch, a tag, the highest
// tag in a semver range, a commit, a full reference name, or the default branch
// ([Ref]). [Repository.LatestRevision] costs one ls-remote round trip and moves no
// objects, so a poller can skip work when nothing changed; [Repository.Fetch] brings
// a cache directory up to date (a shallow clone the first time, an incremental fetch
// after, nothing when the commit is already there) and checks the commit out as an
// artifact with a Flux-format revision ("main@sha1:<hash>").
//
// Transports: HTTPS and HTTP (basic auth, bearer token, extra CA bundle; the proxy
// comes from HTTPS_PROXY/HTTP_PROXY/NO_PROXY), SSH (private key with optional
// passphrase; host keys are checked against the known_hosts the caller gives, and
// only [Auth.InsecureIgnoreHostKey] turns that off), git://, file:// and local paths.
// Credentials written in a URL or an scp-like address are moved out of it before
// go-git sees it, and every error is redacted (known secrets, the basic-auth values
// that carry them, and [RedactURL]), so secrets never reach errors, logs or revisions.
//
// The cache is safe to share: work on one URL is serialized by an flock on a lock
// file (across goroutines and processes; the kernel drops it when a process dies),
// packs are written atomically, and an unreadable cache is recreated. Checkouts
// honour .sourceignore files and [Options.Ignore] (gitignore syntax), refuse
// symbolic links leaving the checkout, stop at [Options.MaxSize], and include
// submodules when asked (from remote URLs only: never file:// or a local path,
// and relative ones only with [Options.RelativeSubmodules]). MaxSize also bounds what a fetch receives: a pack is
// checked against it as it arrives, from the sizes its object headers declare,
// so a small transfer of a huge object is refused before it is inflated.
//
// A checkout is a directory by default. [CheckoutLazy] trades the directory for
// speed: Artifact.FS then reads files from the object cache when they are opened
// and Artifact.Path is empty, so a new revision costs what changed rather than one
// file per path (about 3,000 hard links and, later, 3,000 deletions for a
// 3,000-file repository). Programs that read artifacts through their FS, like the
// render package, work with either.
//
// With [Options.Verify], a commit must carry a valid OpenPGP or SSH signature
// (gpg.format=ssh, namespace "git") by a trusted key, else Fetch fails with a
// [*SignatureError] matching [ErrUnsigned] or [ErrBadSignature].
//
// [Repository.Push] commits file changes on a branch and pushes them without force;
// when the branch moved meanwhile it fails with an error matching
// [ErrNonFastForward], and calling it again retries on top of the new head.
//
// Package gittest, next to this one, serves repositories over smart HTTP, SSH and
// git daemon on loopback for tests.
package git
