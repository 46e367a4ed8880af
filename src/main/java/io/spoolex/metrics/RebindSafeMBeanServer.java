/*
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
package io.spoolex.metrics;

import io.airlift.log.Logger;

import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectInstance;
import javax.management.ObjectName;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static java.util.Objects.requireNonNull;

/**
 * One exchange manager's view of the MBean server. It tolerates names another manager in the same JVM already holds
 * (an embedded Trino cluster runs one exchange manager per node in one JVM; a real server runs one): the first one
 * registered keeps the name, later registrations are skipped. It unregisters only what it registered itself, and
 * remembers that, so that a manager that failed to start can take its beans out again.
 */
final class RebindSafeMBeanServer
{
    private static final Logger log = Logger.get(RebindSafeMBeanServer.class);

    private final MBeanServer server;
    private final Set<ObjectName> registered = ConcurrentHashMap.newKeySet();
    private final MBeanServer view;

    RebindSafeMBeanServer(MBeanServer server)
    {
        this.server = requireNonNull(server, "server is null");
        this.view = (MBeanServer) Proxy.newProxyInstance(
                RebindSafeMBeanServer.class.getClassLoader(),
                new Class<?>[] {MBeanServer.class},
                (_, method, arguments) -> switch (method.getName()) {
                    case "registerMBean" -> register((ObjectName) arguments[1], method, arguments);
                    case "unregisterMBean" -> {
                        if (registered.remove((ObjectName) arguments[0])) {
                            yield invoke(method, arguments);
                        }
                        yield null;
                    }
                    default -> invoke(method, arguments);
                });
    }

    MBeanServer view()
    {
        return view;
    }

    void unregisterAll()
    {
        for (ObjectName name : Set.copyOf(registered)) {
            registered.remove(name);
            try {
                server.unregisterMBean(name);
            }
            catch (JMException e) {
                log.debug(e, "%s was already unregistered", name);
            }
        }
    }

    private Object register(ObjectName name, Method method, Object[] arguments)
            throws Throwable
    {
        try {
            ObjectInstance instance = (ObjectInstance) invoke(method, arguments);
            registered.add(instance.getObjectName());
            return instance;
        }
        catch (InstanceAlreadyExistsException e) {
            log.debug("%s is already registered by another exchange manager in this JVM", name);
            try {
                return server.getObjectInstance(name);
            }
            catch (InstanceNotFoundException _) {
                // unregistered in between: nothing to share, and nothing of ours to unregister later
                return new ObjectInstance(name, Object.class.getName());
            }
        }
    }

    private Object invoke(Method method, Object[] arguments)
            throws Throwable
    {
        try {
            return method.invoke(server, arguments);
        }
        catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
