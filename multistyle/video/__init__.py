"""Video style transfer on top of the image methods: clips in and out (PyAV), optical flow and its reliability
(OpenCV), and temporal consistency (Ruder et al. 2016's warped previous output, masked by flow reliability)."""
