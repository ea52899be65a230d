module github.com/go-actions/actions

go 1.26
