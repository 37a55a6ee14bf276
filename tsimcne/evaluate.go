package tsimcne

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
	"github.com/gosimcne/gosimcne/tsimcne/knn"
)

// Evaluation is the paper's evaluation of a map: kNN classification
// accuracy (k=15, Euclidean) of test points by their neighbours among the
// training points, in the map and optionally in the backbone features.
type Evaluation struct {
	// K is the number of neighbours.
	K int `json:"k"`
	// NTrain and NTest count the reference and the classified points.
	NTrain int `json:"n_train"`
	NTest  int `json:"n_test"`
	// MapDim is the dimension of the map (2).
	MapDim int `json:"map_dim"`
	// MapAccuracy is the kNN accuracy in the map.
	MapAccuracy float64 `json:"knn_accuracy_map"`
	// MapPerClass is the accuracy of each class in the map.
	MapPerClass []ClassAccuracy `json:"knn_accuracy_map_per_class,omitempty"`
	// FeatureDim and FeatureAccuracy are the same for the backbone
	// features, where they were evaluated (0 otherwise).
	FeatureDim      int     `json:"feature_dim,omitempty"`
	FeatureAccuracy float64 `json:"knn_accuracy_features,omitempty"`
}

// ClassAccuracy is the kNN accuracy of one class.
type ClassAccuracy struct {
	Class    string  `json:"class"`
	Accuracy float64 `json:"accuracy"`
	N        int     `json:"n"`
}

// KNNAccuracy classifies each test point by a majority vote of its k
// nearest training points (Euclidean; k=0 means 15) and returns the
// accuracy with per-class figures. Both embeddings need labels.
func KNNAccuracy(train, test *embedding.Embedding, k int) (float64, []ClassAccuracy, error) {
	if k == 0 {
		k = knn.DefaultK
	}
	if train.Labels == nil || test.Labels == nil {
		return 0, nil, fmt.Errorf("kNN accuracy needs labelled data")
	}
	if train.Dim != test.Dim {
		return 0, nil, fmt.Errorf("kNN accuracy: train points are %d-D, test points %d-D", train.Dim, test.Dim)
	}
	res, err := knn.Accuracy(train.Points, train.Labels, test.Points, test.Labels, train.Dim, knn.WithK(k))
	if err != nil {
		return 0, nil, err
	}
	per := make([]ClassAccuracy, 0, len(res.PerClass))
	for _, c := range res.PerClass {
		name := fmt.Sprint(c.Label)
		if c.Label < len(test.ClassNames) {
			name = test.ClassNames[c.Label]
		}
		per = append(per, ClassAccuracy{Class: name, Accuracy: c.Accuracy, N: c.Total})
	}
	return res.Accuracy, per, nil
}

// Evaluate embeds train and test and computes their Evaluation: kNN with k
// neighbours (0 means 15) in the map, and in the backbone features too if
// withFeatures. It returns the maps as well, for saving and plotting.
func (m *Model) Evaluate(train, test *data.Dataset, k int, withFeatures bool) (ev *Evaluation, trainMap, testMap *embedding.Embedding, err error) {
	var trainFeat, testFeat *embedding.Embedding
	if trainMap, trainFeat, err = m.embed(train, withFeatures); err != nil {
		return nil, nil, nil, err
	}
	if testMap, testFeat, err = m.embed(test, withFeatures); err != nil {
		return nil, nil, nil, err
	}
	if k == 0 {
		k = knn.DefaultK
	}
	ev = &Evaluation{K: k, NTrain: train.N, NTest: test.N, MapDim: trainMap.Dim}
	if ev.MapAccuracy, ev.MapPerClass, err = KNNAccuracy(trainMap, testMap, k); err != nil {
		return nil, nil, nil, fmt.Errorf("evaluating the map: %w", err)
	}
	if withFeatures {
		ev.FeatureDim = trainFeat.Dim
		if ev.FeatureAccuracy, _, err = KNNAccuracy(trainFeat, testFeat, k); err != nil {
			return nil, nil, nil, fmt.Errorf("evaluating the features: %w", err)
		}
	}
	return ev, trainMap, testMap, nil
}

// WriteJSON writes v as indented JSON to path.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// ReadJSON reads the JSON file path into v; a missing file gives
// os.ReadFile's error (wrapping fs.ErrNotExist), bad JSON an error naming
// the file.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
