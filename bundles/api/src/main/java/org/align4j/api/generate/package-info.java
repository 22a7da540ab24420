/** Text generation from a trained model (ids in, ids out), log-probabilities of given completions. */
@Export
@Version("1.0.0")
package org.align4j.api.generate;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
