module example.com/buildidsamples

go 1.27
