"""Layer 3, the physics: interface reactions, open systems, decompositions, Kcrit, windows."""
