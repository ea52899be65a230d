module github.com/go-actions/actions/benchmarks

go 1.26

require (
	github.com/asaskevich/EventBus v0.0.0-20200907212545-49d423059eef
	github.com/go-actions/actions v0.0.0-00010101000000-000000000000
	github.com/pocketbase/pocketbase v0.36.8
)

require (
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/spf13/cast v1.10.0 // indirect
)

replace github.com/go-actions/actions => ../
