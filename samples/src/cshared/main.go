package main

import "C"

//export Answer
func Answer() C.int {
	return 42
}

func main() {}
