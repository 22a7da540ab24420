/** The TensorFlow runtime: device, threads, XLA and seeds of the sessions align4j opens. */
@Export
@Version("1.0.0")
package org.align4j.api.runtime;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
