"""Quality metrics: mixtures (modes, % high quality, reverse KL), digits (classifier), Frechet distance, PRDC."""
