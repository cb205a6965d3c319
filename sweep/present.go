package sweep

import "github.com/resq-dev/resq/data"

// datasetCached reports whether a named dataset is in the default cache
// (verified or cached, per data.List).
func datasetCached(name string) bool {
	sts, err := data.List("")
	if err != nil {
		return false
	}
	for _, st := range sts {
		if st.Name == name {
			return st.State == data.StateVerified || st.State == data.StateCached
		}
	}
	return false
}
