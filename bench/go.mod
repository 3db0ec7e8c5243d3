module github.com/gitopskit/gitopskit/bench

go 1.26.0

replace github.com/gitopskit/gitopskit => ../
