/** Optimizers, learning-rate schedules and the settings they read. */
@Export
@Version("1.0.0")
package org.align4j.api.optim;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
