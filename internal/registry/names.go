package registry

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
)

// funcName returns the qualified name of the function v.
func funcName(v reflect.Value) string {
	if f := runtime.FuncForPC(v.Pointer()); f != nil {
		return f.Name()
	}
	return fmt.Sprintf("function at %#x", v.Pointer())
}

// notTopLevel says why the function named qual is not a plain top-level
// function, or returns "".
func notTopLevel(qual string) string {
	last := qual[strings.LastIndexByte(qual, '/')+1:]
	switch {
	case strings.HasSuffix(last, "-fm"):
		return "a method value"
	case strings.Contains(last, "["):
		return "an instance of a generic function"
	}
	for part := range strings.SplitSeq(last, ".") {
		if len(part) > 4 && strings.HasPrefix(part, "func") && strings.Trim(part[4:], "0123456789") == "" {
			return "a closure (function literal)"
		}
	}
	return ""
}

// ShortName strips the import path from a qualified function name.
func ShortName(qual string) string {
	return qual[strings.LastIndexByte(qual, '/')+1:]
}
