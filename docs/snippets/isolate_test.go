package snippets

import (
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/isolate"
)

// snippet: render-isolate
func main() {
	if isolate.Child() { // first thing: a render child answers and ends here
		return
	}
	renderer := render.NewCache(isolate.New(isolate.Options{Spec: isolate.DefaultSpec()}), 0)
	serve(renderer) // the program: every render runs in a child process
}

// end snippet

// serve stands for the program that uses the renderer.
func serve(render.Renderer) {}

var _ = main // the snippet shows a program's main; the tests do not run it
