module github.com/pamscim/pamscim

go 1.26.0
