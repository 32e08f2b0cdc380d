#!/usr/bin/env python3
"""From training to firmware, the Python half: train a tiny Keras classifier,
quantize it to full int8 with a representative dataset, write the .tflite file.

    python train.py --out DIR

The task: tell four waveforms apart (sine, square, triangle, sawtooth) from 64
noisy samples of one channel, as a sensor would deliver them. The data is
synthesized here from fixed seeds, so there is nothing to download and every
run writes the same files:

  DIR/model.tflite        int8 in, int8 out: what `kiln build` compiles
  DIR/samples.txt         test-set samples for the goldens, one per line:
                          `<tag> <label> <class> <64 real input values>`
  DIR/golden/in_<tag>.bin the same samples quantized to the model's int8 input
                          (the TFLM oracle adds out_<tag>.bin; see make.sh)
  DIR/train.json          versions, seeds, shapes and the test accuracies

The layers convert to ops kiln compiles (CONV_2D, MAX_POOL_2D,
DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, FULLY_CONNECTED, SOFTMAX): the signal is a
1x64 image with one channel and the kernels are 1xK, because Keras' Conv1D
converts to EXPAND_DIMS + CONV_2D, and kiln does not take EXPAND_DIMS.
"""
import argparse
import json
import os

# Quiet TensorFlow's start-up banner, and make its CPU kernels deterministic.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["TF_DETERMINISTIC_OPS"] = "1"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

SEED = 13
LENGTH = 64  # samples per window
CLASSES = ["sine", "square", "triangle", "sawtooth"]
TRAIN_PER_CLASS = 1000
TEST_PER_CLASS = 250
CALIBRATION_SAMPLES = 200  # representative dataset for the int8 ranges
GOLDEN_PER_CLASS = 2  # test samples per class that become goldens
EPOCHS = 60


def synthesize(per_class, rng):
    """`per_class` windows of each waveform: random frequency (1.5 to 5 periods
    per window), phase, amplitude, DC offset and Gaussian noise. Returns
    (x [n, 1, LENGTH, 1] float32, y [n] int) in a shuffled order."""
    n = per_class * len(CLASSES)
    y = np.repeat(np.arange(len(CLASSES)), per_class)
    t = np.arange(LENGTH) / LENGTH
    periods = rng.uniform(1.5, 5.0, size=(n, 1))
    phase = rng.uniform(0.0, 1.0, size=(n, 1))
    amplitude = rng.uniform(0.5, 1.0, size=(n, 1))
    offset = rng.uniform(-0.3, 0.3, size=(n, 1))
    noise = rng.uniform(0.0, 0.2, size=(n, 1)) * rng.standard_normal((n, LENGTH))
    cycle = (periods * t + phase) % 1.0  # position in the period, 0..1
    shapes = np.stack([
        np.sin(2 * np.pi * cycle),                # sine
        np.where(cycle < 0.5, 1.0, -1.0),         # square
        1.0 - 4.0 * np.abs(cycle - 0.5),          # triangle
        2.0 * cycle - 1.0,                        # sawtooth
    ])
    x = shapes[y, np.arange(n)] * amplitude + offset + noise
    order = rng.permutation(n)
    return x[order].reshape(n, 1, LENGTH, 1).astype(np.float32), y[order]


def build_model(batch_size=None):
    """948 parameters. Each layer becomes one builtin op kiln supports (Flatten
    folds into the first FULLY_CONNECTED); the last pooling averages over the
    whole window, so the classifier does not depend on where a feature is."""
    return keras.Sequential([
        keras.Input(shape=(1, LENGTH, 1), batch_size=batch_size, name="signal"),
        keras.layers.Conv2D(8, (1, 5), padding="same", activation="relu"),
        keras.layers.MaxPooling2D((1, 2)),
        keras.layers.DepthwiseConv2D((1, 5), padding="same", activation="relu"),
        keras.layers.Conv2D(16, (1, 1), activation="relu"),
        keras.layers.MaxPooling2D((1, 2)),
        keras.layers.DepthwiseConv2D((1, 5), padding="same", activation="relu"),
        keras.layers.Conv2D(16, (1, 1), activation="relu"),
        keras.layers.AveragePooling2D((1, 16)),
        keras.layers.Flatten(),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(len(CLASSES), activation="softmax"),
    ])


def train(x_train, y_train):
    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(2e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=64, shuffle=True,
              validation_split=0.1, verbose=2)
    return model


def convert(model, x_calibration):
    """Post-training full-integer quantization: int8 weights and activations,
    int8 input and output, ranges calibrated on the representative dataset.
    The model is traced with batch size 1, what a microcontroller runs."""
    single = build_model(batch_size=1)
    single.set_weights(model.get_weights())
    converter = tf.lite.TFLiteConverter.from_keras_model(single)

    def representative_dataset():
        for x in x_calibration:
            yield [x[None]]

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def quantize(x, scale, zero_point):
    """TFLite's float -> int8: round(x / scale) in float32, half away from zero,
    plus the zero point, clamped (what kiln's generated `quantize_input` does)."""
    v = (x.astype(np.float32) / np.float32(scale)).astype(np.float64)
    q = np.sign(v) * np.floor(np.abs(v) + 0.5) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def int8_predictions(tflite_model, x):
    interpreter = tf.lite.Interpreter(model_content=tflite_model)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    scale, zero_point = inp["quantization"]
    predictions = []
    for sample in x:
        interpreter.set_tensor(inp["index"], quantize(sample[None], scale, zero_point))
        interpreter.invoke()
        predictions.append(int(np.argmax(interpreter.get_tensor(out["index"])[0])))
    return np.array(predictions), (float(scale), int(zero_point))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="folder for model.tflite and the goldens' inputs")
    args = ap.parse_args()

    keras.utils.set_random_seed(SEED)  # Python, NumPy and TensorFlow seeds
    tf.config.experimental.enable_op_determinism()
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)

    rng = np.random.default_rng(SEED)
    x_train, y_train = synthesize(TRAIN_PER_CLASS, rng)
    x_test, y_test = synthesize(TEST_PER_CLASS, rng)

    model = train(x_train, y_train)
    model.summary()
    float_pred = np.argmax(model.predict(x_test, batch_size=1, verbose=0), axis=1)
    float_accuracy = float(np.mean(float_pred == y_test))

    tflite_model = convert(model, x_train[:CALIBRATION_SAMPLES])
    int8_pred, (scale, zero_point) = int8_predictions(tflite_model, x_test)
    int8_accuracy = float(np.mean(int8_pred == y_test))
    print(f"float test accuracy: {float_accuracy:.4f} ({len(y_test)} samples)")
    print(f"int8  test accuracy: {int8_accuracy:.4f} (TFLite interpreter, same samples)")
    print(f"model.tflite: {len(tflite_model)} bytes; input scale {scale!r}, zero point {zero_point}")

    os.makedirs(os.path.join(args.out, "golden"), exist_ok=True)
    with open(os.path.join(args.out, "model.tflite"), "wb") as f:
        f.write(tflite_model)

    # Golden samples: per class, the first test samples that the int8 model gets
    # right, so that the kiln test can require the same top class (the accuracy
    # above counts every test sample).
    lines, tag = [], 0
    for label, name in enumerate(CLASSES):
        picked = [i for i in range(len(y_test))
                  if y_test[i] == label and int8_pred[i] == label][:GOLDEN_PER_CLASS]
        for i in picked:
            real = x_test[i].reshape(-1)
            with open(os.path.join(args.out, "golden", f"in_real_{tag}.bin"), "wb") as f:
                f.write(quantize(real, scale, zero_point).tobytes())
            values = " ".join(f"{v:.9g}" for v in real)
            lines.append(f"real_{tag} {label} {name} {values}\n")
            tag += 1
    with open(os.path.join(args.out, "samples.txt"), "w") as f:
        f.write("# <tag> <label> <class> <64 real input values>: golden/in_<tag>.bin is this\n"
                "# input quantized; train.py wrote it (see docs/training/README.md)\n")
        f.writelines(lines)

    report = {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "seed": SEED,
        "classes": CLASSES,
        "input_shape": [1, 1, LENGTH, 1],
        "train_samples": int(len(y_train)),
        "test_samples": int(len(y_test)),
        "epochs": EPOCHS,
        "parameters": int(model.count_params()),
        "float_test_accuracy": round(float_accuracy, 4),
        "int8_test_accuracy": round(int8_accuracy, 4),
        "model_bytes": len(tflite_model),
    }
    with open(os.path.join(args.out, "train.json"), "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
