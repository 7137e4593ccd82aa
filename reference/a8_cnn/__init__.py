"""Reference oracle for a8_cnn: 2-D convolution and max-pooling layers in numpy."""
