// Package source fetches the files a GitOps tool deploys and describes what it
// fetched: an [Artifact] is a read-only directory (its path and an [fs.FS] that cannot
// leave it; a source may offer only the FS), a revision string, the commit it came
// from and a content digest.
//
// A [Source] produces artifacts. [Local] serves a directory already on disk; the
// subpackage source/git fetches Git repositories (clone, incremental fetch, refs by
// branch, tag, semver range or commit, signature verification, write-back) and keeps
// go-git out of programs that only need this package.
//
// Revisions follow Flux's format so that tools built on either read the same strings:
// "<ref>@sha1:<hash>" for Git ("main@sha1:1eab…", "v1.2.0@sha1:…", "sha1:…" for a
// bare commit) and "sha256:<hex>" for content-addressed sources such as [Local].
// [ParseRevision] splits one.
//
// Safety: an artifact never reaches outside its root. [NewArtifact] refuses a
// directory holding a symbolic link that resolves outside it (a [*SymlinkError]
// naming the link), and the artifact's FS opens files through [os.OpenInRoot], so a
// link created afterwards cannot escape either. [Ignore] implements the gitignore
// syntax of ".sourceignore" files, which sources use to leave paths out.
//
// The package does not render or parse manifests.
package source
