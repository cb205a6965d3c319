package data

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The character-level corpus: the English fortune cookies of Debian's
// fortunes package, version 1:1.99.1-7.3 (Debian 12), which installs them
// as plain-text files in /usr/share/games/fortunes (`apt-get install
// fortunes`). Every file is checked against its size and SHA-256 below; a
// different version is refused, so the bytes, the split and the bits per
// character are the same on every machine.
const (
	FortunesPackage = "fortunes 1:1.99.1-7.3"
	fortunesDir     = "/usr/share/games/fortunes"
	// FortunesSteps is the length of one training window: sample i holds
	// characters [i*T, i*T+T) of its split and its labels the characters
	// one further on.
	FortunesSteps = 100
)

// fortunesVal and fortunesTest are the files of the validation and test
// splits; every other file trains.
var (
	fortunesVal  = []string{"drugs", "humorists", "law"}
	fortunesTest = []string{"literature", "people", "sports"}
)

type textFile struct {
	Name   string
	Size   int64
	SHA256 string
}

var fortunesFiles = []textFile{
	{"art", 85327, "600b8197bc994fd4fcbb623aa5e700629540af44f044d4907886bd1031f160ce"},
	{"ascii-art", 5877, "818d0967629e0cd48b69c4b7e93645a7f80bba99ed4f1cd668f42b3d174b7431"},
	{"computers", 237981, "a86be224d9f733b88eeaf8a46ea0427e05cc69c69edcf5f6db47ddf561ca37fd"},
	{"cookie", 245093, "5dc97eee96dcc5287c373be629482730d45f77b59da1287933c9c5f482a055eb"},
	{"debian", 15615, "491dd04bf909b64152bcb554b9bc88df0ca50c0dc676d74d10742bf38aaa50de"},
	{"definitions", 180268, "57be4744c353d931fa2ca95f50215d4b67539f5a527ae628a6441fb4a1258caa"},
	{"disclaimer", 10749, "c085d66ea68686d5e28852cef77c3eeb3640895c5647b148deeaaada2c07fa7b"},
	{"drugs", 40931, "a5a59ee8b0e1fd3085a38dfa29149fe9a2c8d7f256b74aea71aa2cc08a9990c1"},
	{"education", 39280, "ba13321d6d6beb7a6e65296a47450bfc87b24a319fff2e94762011b59a31aa35"},
	{"ethnic", 34364, "61695cb9b60dbee91755027da1fa4f850f4c6386ff38197a48e4ff1696385e19"},
	{"food", 34377, "78077a65b9288df71e7b2a8e8258cd3b1005d1282f7c7e57ad53927f374df45d"},
	{"fortunes", 24516, "8819e6b83bacd6b7e8a4a2483f41e126b3b4b3ef8cd2aca907a53b163f082fd5"},
	{"goedel", 7391, "9d447862c803f22cdf7bb26cb70cca1a7f8a2a7992f2793ddcb43cfcf3302ab0"},
	{"humorists", 42446, "ffdf67e1f4049133bf904b769c364de45e5ae0abfb3ea7c9afb54b87b89acfc4"},
	{"kids", 28587, "82e51834990afd36f2ea2f25864b368e2f44f9c761aba034035b26061de6d5be"},
	{"knghtbrd", 87971, "c25e8373b38a6f159a7b1d336f363d5c962224a6ddcc86279dec47aad3c869b3"},
	{"law", 56657, "f04141f94e788b7899e0adb0490d182ce711f8fdbb8252343a5257e717e9279d"},
	{"linux", 58496, "85b0e5eadf7adeea77da4e1fbd456c962ce3bd1dabbd053098ecf37de9169cf3"},
	{"linuxcookie", 19466, "4f75959924ae5bb1955c30a5c985e641ec17cd5ebb7453d839f94b1988331202"},
	{"literature", 53589, "22eab7d53ce994d0466901bb0d799ae3289603e17dc0bdb7f16666931155c5a5"},
	{"love", 20423, "4d4fb7c540e5500e44643524dae41dd7d2b21b80be184253fd9f8541f6029fc5"},
	{"magic", 9816, "b9553a1d84d966db55a24a779206cc4565bf3686c9ecbc31215f654129e3166e"},
	{"medicine", 19193, "18b8c7b098e649024159c9d9f3e37a0832bbd2d5cf3e2317b313134761afd487"},
	{"men-women", 101843, "8fc4eb68a8d16826372d9bfdc910c8ab917b8aa59e2aac533f3ec2b49a1314ba"},
	{"miscellaneous", 48174, "e3d81fd016f9f84a70ecb9aa197c4911aca01a8034e49345b81093f6751bba9c"},
	{"news", 11322, "4b8eebae510353d6f628dfdaf52bf8cbdafb891a122b146421c805b74f389617"},
	{"paradoxum", 6383, "85228975016fe975065eaf0baf55980d32d26f9e2fa99f69da4696d11ac02036"},
	{"people", 153878, "2afb4b9f577be114d2dca279bc5590ee8415e1405295d7d7626c888d82f338e8"},
	{"perl", 40182, "b19145eadf97c31add2e0a199d93ffa0eb92e00275c2724b7ad6b4e412113536"},
	{"pets", 7225, "084472564bc55df566733a224f8a737d78717132ec43628be0c2af466ac41ecc"},
	{"platitudes", 35626, "88448274efec3d2c0908cc11525c9b065b95a32c232a2c58c67a87dd88545ee5"},
	{"politics", 114921, "b56ca45a046edd5c459090a5c6b335332661b436e814b41ac87bb58065ad6131"},
	{"pratchett", 401, "48410754f1b2091f418ac27421d2764628b23c91427b12809031cf2b39be5b0e"},
	{"riddles", 20294, "bcaaab907b156a18a8943f0768828b4f1a18d382497d0e2ef012fe6aaa27becc"},
	{"science", 129991, "7ab350b142ee6c70c1d8517c5a1b3790c09b190a62859427cad98e6e35a19fcc"},
	{"songs-poems", 233975, "eb714d297b468da91b6ca32baefb000279a3e3740b09f8a87db24fe58e010b1a"},
	{"sports", 37317, "b71dd524d7bca888ec1014fb849a8a15cf58017c59127e572d393ef7632c35c8"},
	{"startrek", 30216, "7b2e4c235b99452b2de4c47d67aae0faac2ea508a2d644609e4ef5db7653c39c"},
	{"tao", 37143, "4adddc35a122bb233a16c076abc0be0326ea3a68594146a6baee3b5f6489e12b"},
	{"translate-me", 1787, "a183879cf46ee4a6176f6b9f0f31adb6abfc6333b64f8fbebeba57017c81e12e"},
	{"wisdom", 61623, "9b0bd6b9331a68c9172219784a411c417c055ed69734edc7b4406795b87d4e94"},
	{"work", 106982, "ad8a0e104160e2c4782fa86e143cd60ffab2872985d4293ffd0af6df19dbfa28"},
	{"zippy", 38978, "b996a112c99a2d61782e1a9a1f3c5445122f18ac312485f2c78279e82ca33932"},
}

// Vocabulary of the character model: the 95 printable ASCII characters,
// newline, tab, and one symbol for every other byte (the corpus holds a
// handful of Latin-1 bytes).
const (
	VocabSize  = 98
	vocabOther = 97
)

// CharID maps a byte to its token id in [0, VocabSize).
func CharID(b byte) int32 {
	switch {
	case b >= 32 && b <= 126:
		return int32(b - 32)
	case b == '\n':
		return 95
	case b == '\t':
		return 96
	}
	return vocabOther
}

// loadFortunes reads the corpus from dir (fortunesDir when ""), verifies
// every file and cuts each split into windows of FortunesSteps characters.
func loadFortunes(dir string, opt Options) (*Dataset, error) {
	if dir == "" {
		dir = fortunesDir
	}
	texts := map[string][]byte{}
	sum := sha256.New()
	for _, f := range fortunesFiles {
		p := filepath.Join(dir, f.Name)
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("data: fortunes: %s missing: install Debian's package (apt-get install fortunes; resq reads %s)", p, FortunesPackage)
		}
		if err != nil {
			return nil, fmt.Errorf("data: fortunes: %v", err)
		}
		h := sha256.Sum256(b)
		if got := hex.EncodeToString(h[:]); int64(len(b)) != f.Size || got != f.SHA256 {
			return nil, fmt.Errorf("data: fortunes: %s has %d bytes with sha256 %s, want %d bytes with sha256 %s (resq reads exactly %s)", p, len(b), got, f.Size, f.SHA256, FortunesPackage)
		}
		texts[f.Name] = b
		fmt.Fprintf(sum, "%s %s\n", f.Name, f.SHA256)
	}
	var train, val, test []byte
	for _, f := range fortunesFiles {
		switch {
		case slices.Contains(fortunesVal, f.Name):
			val = append(val, texts[f.Name]...)
		case slices.Contains(fortunesTest, f.Name):
			test = append(test, texts[f.Name]...)
		default:
			train = append(train, texts[f.Name]...)
		}
	}
	if opt.Limit > 0 {
		fmt.Fprintf(sum, "limit %d\n", opt.Limit)
	}
	ds := &Dataset{
		Name: "fortunes", Checksum: "sha256:" + hex.EncodeToString(sum.Sum(nil)),
		Shape: []int{FortunesSteps}, Classes: VocabSize,
		Train: TextWindows(train, FortunesSteps, opt.Limit),
		Val:   TextWindows(val, FortunesSteps, opt.Limit),
		Test:  TextWindows(test, FortunesSteps, opt.Limit),
	}
	return ds, nil
}

// TextWindows cuts text into consecutive windows of steps characters (the
// tail that does not fill a window is dropped; limit > 0 keeps at most
// limit windows): X holds the token ids of characters [i*steps,
// i*steps+steps) as floats, Y the ids one character further on.
func TextWindows(text []byte, steps, limit int) Split {
	n := 0
	if len(text) > 0 {
		n = (len(text) - 1) / steps
	}
	if limit > 0 {
		n = min(n, limit)
	}
	s := Split{N: n, D: steps, Steps: steps, X: make([]float32, n*steps), Y: make([]int32, n*steps)}
	for i := range s.X {
		s.X[i] = float32(CharID(text[i]))
		s.Y[i] = CharID(text[i+1])
	}
	return s
}

// seqBase returns the image dataset behind a sequence dataset name.
func seqBase(name string) (base string, permuted, ok bool) {
	for _, b := range []string{"mnist", "fashion-mnist"} {
		switch name {
		case "seq-" + b:
			return b, false, true
		case "pseq-" + b:
			return b, true, true
		}
	}
	return "", false, false
}

// SeqNames lists the sequence datasets Load knows beside the image ones.
func SeqNames() []string {
	return []string{"seq-mnist", "pseq-mnist", "seq-fashion-mnist", "pseq-fashion-mnist", "fortunes"}
}

// seqPermSeed fixes the pixel permutation of the permuted variants.
const seqPermSeed = 0x7065726d // "perm"

// asSequence turns a [1, 28, 28] image dataset into sequences of 28 steps
// of 28 pixel rows ([28, 28]); permuted first shuffles the 784 pixels of
// every image by one fixed permutation (seeded with seqPermSeed, the same
// for every image and split), so each step mixes pixels from all over the
// image (the permuted sequential MNIST of Le et al. 2015, read 28 pixels
// per step).
func asSequence(ds *Dataset, name string, permuted bool) *Dataset {
	h, w := ds.Shape[len(ds.Shape)-2], ds.Shape[len(ds.Shape)-1]
	ds.Name, ds.Shape = name, []int{h, w}
	if permuted {
		perm := seqPermutation(h * w)
		for _, s := range []*Split{&ds.Train, &ds.Val, &ds.Test} {
			row := make([]float32, s.D)
			for i := 0; i < s.N; i++ {
				x := s.X[i*s.D : (i+1)*s.D]
				for j, p := range perm {
					row[j] = x[p]
				}
				copy(x, row)
			}
		}
		ds.Checksum += ",perm:" + strings.TrimPrefix(fmt.Sprintf("%#x", seqPermSeed), "0x")
	}
	return ds
}

// seqPermutation is the fixed permutation of n pixels (a Fisher-Yates
// shuffle driven by SplitMix64 from seqPermSeed, so it never changes with
// the Go version).
func seqPermutation(n int) []int {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	x := uint64(seqPermSeed)
	for i := n - 1; i > 0; i-- {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		j := int(z % uint64(i+1))
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm
}

// MetricFor returns the error measure of the named dataset (see
// Dataset.Metric) without loading it.
func MetricFor(name string) string {
	if name == "fortunes" {
		return MetricBPC
	}
	return MetricErrorPct
}
