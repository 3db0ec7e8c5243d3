// Package ssa holds what the apply and diff packages share about one server-side
// apply, so that what diff predicts is what apply does: the migration of the fields
// kubectl's client-side apply owns (client-go's csaupgrade), a dry run that sees
// that migration, the checks of an object's namespace, and the reading of the API
// server's conflict and immutable-field errors.
package ssa
