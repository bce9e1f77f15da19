package main

func runScale(out string, quick bool) error { return nil }
