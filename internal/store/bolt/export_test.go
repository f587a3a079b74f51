package bolt

// SetBeforeWrite makes s call f before each batch's bbolt commit, which
// fails with f's error; call it before the first Update.
func SetBeforeWrite(s *Store, f func() error) { s.beforeWrite = f }
