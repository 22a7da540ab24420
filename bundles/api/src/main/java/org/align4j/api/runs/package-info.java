/**
 * The run API: submit pipeline files to a queue, follow their state, metrics and log, pause, resume, stop them, and
 * re-target the reward model of a running stage. The web console, the shell commands and headless mode all go
 * through {@link org.align4j.api.runs.RunService}.
 */
@Export
@Version("1.0.0")
package org.align4j.api.runs;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
