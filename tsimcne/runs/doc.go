// Package runs holds the policy of a t-SimCNE run, shared by the tsimcne
// command and by notebooks, so that either reproduces what the other did:
//
//   - which images a run trains and evaluates on: Data (saved in run.json)
//     and its Load, which gives the Images (the training images and the
//     kNN reference and query sets of the evaluation mode);
//   - the run folder and its files: Info is run.json, Metrics is
//     metrics.json, Prepare readies a folder for training;
//   - what is made of a trained model: Evaluate embeds a run's images and
//     computes the kNN accuracies, WriteOutputs writes the embeddings,
//     holdout.json and metrics.json, WritePictures the pictures.
//
// A notebook reads a run folder's run.json with ReadInfo, loads the same
// images with Info.Data.Load and the model with tsimcne.Load (see the
// example). Nothing here prints on its own: progress notes go to the
// io.Writer given (Data.Warn), and notes about the images chosen come back
// as Images.Notes.
package runs
