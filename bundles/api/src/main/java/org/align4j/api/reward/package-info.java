/** Reward models: batched scoring of prompt/completion pairs. */
@Export
@Version("1.0.0")
package org.align4j.api.reward;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
