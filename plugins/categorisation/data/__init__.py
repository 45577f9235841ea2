"""The shipped, trained categorisation model (weights.npz + model.json)."""
