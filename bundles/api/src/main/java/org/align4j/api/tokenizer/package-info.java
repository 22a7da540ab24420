/** Tokenizers: training, encoding, decoding, and their Hugging Face tokenizer.json form. */
@Export
@Version("1.1.0")
package org.align4j.api.tokenizer;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
