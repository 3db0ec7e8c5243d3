// Package isolate renders in a child process, so that a hostile commit cannot
// take the program down. Go cannot recover from a fatal error (out of memory, a
// stack overflow) nor stop a goroutine that ignores its context, and the
// kustomize and Helm libraries meet both: a YAML alias bomb listed as a
// kustomize resource, a values file whose `tpl` calls itself, a template of
// nested `range until 100000`, a kustomization of tens of thousands of
// documents. A [Renderer] runs the render in a child bounded in memory
// (RLIMIT_DATA, with the Go heap aiming below it), CPU time (RLIMIT_CPU) and
// wall time, and kills the child's process group when a limit or the context
// ends; the program goes on and gets an error.
//
// # The hook
//
// The child is the running program itself, started again from os.Executable:
// no other program is needed or run. The program must call [Child] first thing
// in main, and a test binary in TestMain, as docker's reexec.Init is called:
//
//	func main() {
//		if isolate.Child() {
//			return // this process was a render child; it has answered
//		}
//		...
//	}
//
//	func TestMain(m *testing.M) {
//		if isolate.Child() {
//			return
//		}
//		os.Exit(m.Run())
//	}
//
// The child is started with one argument, -gitopskit.render-child, and a nonce
// in $GITOPSKIT_RENDER_CHILD, which it echoes on its first line. A program that
// lacks the hook either refuses the argument (a flag parser does) or does not
// echo the nonce within ten seconds, and is killed: the render fails with
// [ErrNoHook]. Such a process never starts children of its own: a Renderer in a
// process started as a child fails at once with ErrNoHook.
//
// # What crosses
//
// The renderer is described by a [Spec] (render.Auto, or kustomize, Helm or
// plain YAML alone, with their options), not a render.Renderer value. The
// render.Options and the Spec go to the child as JSON on its standard input.
// The artifact goes by its path when render.Input.FS is a directory on disk
// (source.DirFS, as a source.Artifact has, (*os.Root).FS or os.DirFS), which the
// child opens the same way; another fs.FS is streamed as a tar, at most
// Limits.Input bytes. The result comes back as JSON on the child's standard
// output, at most Limits.Output bytes, and equals the in-process result, down
// to the Go types of numbers. A render's own error keeps its message, the
// sentinels errors.Is finds in it (render.ErrOutsideRoot, render.ErrLimit,
// render.ErrRemote, ...) and an object.DecodeError's origin.
//
// # Errors
//
// A child over a limit is a [*LimitError] naming it (memory, CPU, wall, output,
// input), which matches render.ErrLimit; when the context's deadline ended it,
// it also matches context.DeadlineExceeded. A canceled context returns
// context.Canceled. A child that dies of anything else is a [*CrashError] with
// the first and last lines of its standard error, which for a Go crash hold the
// message and stack frames, not the program's data; the value of a panic, which
// may quote it, is withheld.
//
// # Cost
//
// A child costs a process start and the JSON round trip of the result, tens of
// milliseconds for a render of a thousand objects. A render.Cache in front of
// the Renderer serves a repeated render without starting one (see bench/render).
package isolate
