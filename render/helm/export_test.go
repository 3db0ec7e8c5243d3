package helm

// SortFixture is sortFixture for the external tests: the engines' parity test
// renders it as a chart.
var SortFixture = sortFixture
