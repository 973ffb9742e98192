module example.com/modapp

go 1.27

require (
	example.com/greet v1.2.0
	example.com/local v0.0.0
)

replace example.com/local => ./local
