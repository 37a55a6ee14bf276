package data

// Class names of the built-in data sets, indexed by label. The CIFAR loaders
// use the names files of the archives when present and these lists
// otherwise. The slices are shared: copy before modifying.
var (
	// CIFAR10Classes are the 10 CIFAR-10 classes (batches.meta.txt).
	CIFAR10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

	// CIFAR100Classes are the 100 fine CIFAR-100 classes (fine_label_names.txt).
	CIFAR100Classes = []string{
		"apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
		"bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
		"chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
		"dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
		"lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
		"mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
		"plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
		"rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
		"squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
		"train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
	}

	// CIFAR100CoarseClasses are the 20 CIFAR-100 superclasses
	// (coarse_label_names.txt).
	CIFAR100CoarseClasses = []string{
		"aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
		"household_electrical_devices", "household_furniture", "insects", "large_carnivores",
		"large_man-made_outdoor_things", "large_natural_outdoor_scenes", "large_omnivores_and_herbivores",
		"medium_mammals", "non-insect_invertebrates", "people", "reptiles", "small_mammals", "trees",
		"vehicles_1", "vehicles_2",
	}

	// FashionMNISTClasses are the 10 Fashion-MNIST classes.
	FashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

	// MNISTClasses are the 10 MNIST digits.
	MNISTClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
)
