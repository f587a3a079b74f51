package etcd

// SetBeforeSend makes s call f before it sends each batch's commit Txn;
// call it before the first Update.
func SetBeforeSend(s *Store, f func()) { s.beforeSend = f }
