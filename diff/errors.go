package diff

import "errors"

// ErrNoFieldManager is returned when [Options.FieldManager] is empty.
var ErrNoFieldManager = errors.New("diff: no field manager")
