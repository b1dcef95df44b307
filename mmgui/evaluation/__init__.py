"""Evaluation against annotations: models A and B measured on clips with strong labels
(the annotator's events, else the dataset's), their errors on the event rows and in the clip list."""
