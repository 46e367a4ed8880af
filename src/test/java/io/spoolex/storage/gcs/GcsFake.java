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
package io.spoolex.storage.gcs;

import com.google.cloud.storage.Storage;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static java.util.Objects.requireNonNull;

/**
 * Google's in-memory fake of the GCS JSON API ({@code google-cloud-nio}'s {@code LocalStorageHelper}: real object
 * writes, resumable uploads, ranged reads, prefix listing and single deletes; no batch requests, no paging). It is not
 * thread-safe, so every call of its {@code Storage} service, and of the channels that service hands out, runs under one
 * lock. It also makes an object at the start of a resumable upload (listed, with no bytes), where GCS makes it only
 * when the upload's last chunk lands: objects of uploads not finished are left out of listings and metadata reads
 * here, as GCS leaves them out. Made by reflection in a given class loader, so that the same code serves the test class path and a plugin
 * class loader (the built archive plus google-cloud-nio), whose {@code Storage} is another class of the same name.
 */
public final class GcsFake
{
    private static final String STORAGE = "com.google.cloud.storage.Storage";
    private static final String[] CHANNELS = {"com.google.cloud.WriteChannel", "com.google.cloud.ReadChannel"};

    private final ClassLoader classLoader;
    private final Object storage;
    private final Object lock = new Object();
    // bucket/name of resumable uploads started and not finished
    private final Set<String> unfinishedUploads = ConcurrentHashMap.newKeySet();

    private GcsFake(ClassLoader classLoader)
    {
        this.classLoader = requireNonNull(classLoader, "classLoader is null");
        try {
            Object options = classLoader.loadClass("com.google.cloud.storage.contrib.nio.testing.LocalStorageHelper")
                    .getMethod("customOptions", boolean.class)
                    .invoke(null, false);
            Object fake = options.getClass().getMethod("getService").invoke(options);
            this.storage = synchronizedProxy(classLoader.loadClass(STORAGE), fake);
        }
        catch (ReflectiveOperationException e) {
            throw new IllegalStateException("google-cloud-nio's LocalStorageHelper is not in " + classLoader, e);
        }
    }

    /**
     * A fresh, empty fake on the test class path.
     */
    public static GcsFake create()
    {
        return new GcsFake(GcsFake.class.getClassLoader());
    }

    /**
     * A fresh, empty fake made of the classes {@code classLoader} has.
     */
    public static GcsFake create(ClassLoader classLoader)
    {
        return new GcsFake(classLoader);
    }

    /**
     * The fake's {@code com.google.cloud.storage.Storage}, of {@link #classLoader()}'s class.
     */
    public Object storage()
    {
        return storage;
    }

    public ClassLoader classLoader()
    {
        return classLoader;
    }

    /**
     * The fake as the {@code Storage} of the test class path.
     */
    public Storage testStorage()
    {
        return (Storage) storage;
    }

    /**
     * A GCS backend of {@link #classLoader()} whose JSON API is this fake (an {@code io.spoolex.storage.gcs.GcsStorageBackend}).
     */
    public Object backend()
    {
        try {
            Class<?> factoryClass = classLoader.loadClass("io.spoolex.storage.gcs.GcsServiceFactory");
            Object factory = Proxy.newProxyInstance(classLoader, new Class<?>[] {factoryClass}, (proxy, method, args) -> switch (method.getName()) {
                case "create" -> storage;
                case "toString" -> "GcsFake";
                case "hashCode" -> System.identityHashCode(proxy);
                case "equals" -> proxy == args[0];
                default -> throw new UnsupportedOperationException(method.getName());
            });
            return classLoader.loadClass("io.spoolex.storage.gcs.GcsStorageBackend")
                    .getMethod("withServiceFactory", factoryClass)
                    .invoke(null, factory);
        }
        catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private Object synchronizedProxy(Class<?> type, Object target)
    {
        return synchronizedProxy(type, target, null);
    }

    private Object synchronizedProxy(Class<?> type, Object target, String upload)
    {
        InvocationHandler handler = (_, method, args) -> invoke(target, method, args, upload);
        return Proxy.newProxyInstance(classLoader, new Class<?>[] {type}, handler);
    }

    private Object invoke(Object target, Method method, Object[] args, String upload)
            throws Throwable
    {
        Object result;
        synchronized (lock) {
            try {
                result = method.invoke(target, args);
            }
            catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }
        if (upload != null && method.getName().equals("close")) {
            // the last chunk landed: the object exists now
            unfinishedUploads.remove(upload);
        }
        if (result == null) {
            return null;
        }
        if (method.getName().equals("writer") && args != null && args.length > 0 && classLoader.loadClass("com.google.cloud.storage.BlobInfo").isInstance(args[0])) {
            String name = blobName(args[0]);
            unfinishedUploads.add(name);
            return synchronizedProxy(classLoader.loadClass(CHANNELS[0]), result, name);
        }
        for (String channel : CHANNELS) {
            Class<?> channelClass = classLoader.loadClass(channel);
            if (channelClass.isInstance(result) && method.getReturnType() == channelClass) {
                return synchronizedProxy(channelClass, result);
            }
        }
        if (method.getName().equals("get") && classLoader.loadClass("com.google.cloud.storage.BlobInfo").isInstance(result)) {
            return unfinishedUploads.contains(blobName(result)) ? null : result;
        }
        Class<?> page = classLoader.loadClass("com.google.api.gax.paging.Page");
        if (method.getName().equals("list") && page.isInstance(result)) {
            return finishedOnly(page, result);
        }
        return result;
    }

    private Object finishedOnly(Class<?> pageClass, Object page)
    {
        return Proxy.newProxyInstance(classLoader, new Class<?>[] {pageClass}, (_, method, args) -> {
            Object result;
            try {
                result = method.invoke(page, args);
            }
            catch (InvocationTargetException e) {
                throw e.getCause();
            }
            if (method.getName().equals("getValues") || method.getName().equals("iterateAll")) {
                List<Object> finished = new ArrayList<>();
                for (Object blob : (Iterable<?>) result) {
                    if (!unfinishedUploads.contains(blobName(blob))) {
                        finished.add(blob);
                    }
                }
                return finished;
            }
            return result;
        });
    }

    private static String blobName(Object blobInfo)
            throws ReflectiveOperationException
    {
        return blobInfo.getClass().getMethod("getBucket").invoke(blobInfo) + "/" + blobInfo.getClass().getMethod("getName").invoke(blobInfo);
    }
}
