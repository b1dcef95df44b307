"""The views of the workspace: each one reads the Document and redraws on its signals."""
