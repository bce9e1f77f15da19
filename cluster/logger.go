package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
)

// serverLog receives the embedded server's log: it passes it to a
// *slog.Logger when there is one and keeps the first fatal message, which
// says why the server could not start.
type serverLog struct {
	l *slog.Logger // nil: silent

	mu    sync.Mutex
	fatal string // the first Fatalf, "" if none
}

// debug tells whether the server should produce debug messages at all.
func (s *serverLog) debug() bool {
	return s.l != nil && s.l.Enabled(context.Background(), slog.LevelDebug)
}

// firstFatal returns the first fatal message, "" if there was none.
func (s *serverLog) firstFatal() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fatal
}

func (s *serverLog) log(level slog.Level, format string, v []any) {
	if s.l != nil {
		s.l.Log(context.Background(), level, fmt.Sprintf(format, v...))
	}
}

// The methods of the server's Logger interface.

func (s *serverLog) Noticef(format string, v ...any) { s.log(slog.LevelInfo, format, v) }
func (s *serverLog) Warnf(format string, v ...any)   { s.log(slog.LevelWarn, format, v) }
func (s *serverLog) Errorf(format string, v ...any)  { s.log(slog.LevelError, format, v) }
func (s *serverLog) Debugf(format string, v ...any)  { s.log(slog.LevelDebug, format, v) }
func (s *serverLog) Tracef(format string, v ...any)  { s.log(slog.LevelDebug, format, v) }

// Fatalf records the message; the server stops starting by itself after a
// fatal error, and the caller reports it.
func (s *serverLog) Fatalf(format string, v ...any) {
	s.mu.Lock()
	if s.fatal == "" {
		s.fatal = fmt.Sprintf(format, v...)
	}
	s.mu.Unlock()
	s.log(slog.LevelError, format, v)
}
