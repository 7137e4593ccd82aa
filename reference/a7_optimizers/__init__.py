"""Reference oracle for a7_optimizers: SGD, Adagrad, RMSprop, Adam and AdamW in numpy."""
